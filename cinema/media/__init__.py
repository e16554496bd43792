"""Media: video and poster assets, signed playback and watch progress (docs/media.md)."""
