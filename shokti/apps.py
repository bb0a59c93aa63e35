from django.apps import AppConfig


class ShoktiConfig(AppConfig):
    name = "shokti"
    verbose_name = "Shokti platform"

    def ready(self) -> None:
        from shokti import checks, schema  # noqa: F401  (registers system checks and OpenAPI extensions)
        from shokti.log import install_record_factory

        install_record_factory()
