import logging

from shokti import correlation


def install_record_factory() -> None:
    """Stamps the current correlation id on every log record, whichever handler gets it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_correlation_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.correlation_id = correlation.get() or "-"
        return record

    factory.adds_correlation_id = True
    logging.setLogRecordFactory(factory)


class CorrelationIdFilter(logging.Filter):
    """Fills the id on records the factory did not see, and on Django's request log.

    django.request logs 4xx/5xx after the middleware has returned, so the id is
    taken from the request that the record carries.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", "-") == "-":
            request = getattr(record, "request", None)
            record.correlation_id = getattr(request, "correlation_id", None) or correlation.get() or "-"
        return True
