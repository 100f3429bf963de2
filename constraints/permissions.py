"""A user's own and their groups' permissions read in one query.

Every page asks what the user may do (the view's permission, which buttons to show), and
Django's ModelBackend answers with two queries, one for the user's permissions and one for
their groups'. This backend, listed before ModelBackend, reads both at once into the cache
ModelBackend reads too (`_perm_cache`), so ModelBackend, asked next about a permission the
user lacks, answers from it without a query. It checks no password: ModelBackend still
signs people in, and the sessions it made stay valid. It loads a session's user as
ModelBackend does (test clients' force_login picks the first backend that can).
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class OneQueryPermissions(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs) -> None:
        """No one: the next backend, ModelBackend, checks passwords."""
        return None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """ModelBackend.get_all_permissions, cached on the user the same way."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(user=user_obj) | Q(group__user=user_obj))
            perms = perms.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in perms.distinct()}
        return user_obj._perm_cache
