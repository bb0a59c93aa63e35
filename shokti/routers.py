from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Seed paths have no trailing slash (`/api/v1/campaigns`); clients that add one still match."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
