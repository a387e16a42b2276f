"""Offer editions: organizers import a new version of an offer; every process uses the live one."""
