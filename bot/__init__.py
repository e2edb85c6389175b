"""Greenlight core: feeds to status alerts, with no Discord dependency."""
