"""Django's ModelBackend with a user's own and their groups' permissions read in one query.

Every page asks what the user may do (the view's permission, which buttons to show), and
ModelBackend answers with two queries, one for the user's permissions and one for their
groups'. This backend reads both at once; the answers are the same.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class OneQueryModelBackend(ModelBackend):
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
