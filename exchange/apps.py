from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Products and footprints"

    def ready(self) -> None:
        # PACT events: answers to requests that came as events, and PublishedEvents
        # when a granted footprint is replaced, are queued by these hooks.
        from .pact_events import register_hooks

        register_hooks()
