"""Channel backends: one small class per channel behind `base.Channel`."""

from messaging.channels.base import Channel, DeliveryError, Outcome, OutgoingMessage, get_channel

__all__ = ["Channel", "DeliveryError", "Outcome", "OutgoingMessage", "get_channel"]
