"""The static files storage of a run that serves only what `collectstatic` wrote."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CollectedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Content-hashed names even with DEBUG on.

    Django hands out plain names under DEBUG so that edited files show without collecting
    them again; a run that serves the collected files only (STATIC_USE_FINDERS=false, as
    scripts/run does) shows edits only after collectstatic anyway. With hashed names there,
    WhiteNoise marks every file immutable and a warm page load asks the server for none.
    """

    def url(self, name: str | None, force: bool = False) -> str:
        return super().url(name, force=True)
