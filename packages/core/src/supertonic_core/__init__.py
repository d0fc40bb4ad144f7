"""Supertonic TTS core."""
