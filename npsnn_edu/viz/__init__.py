"""Plots, 3D playback and widgets. This layer sits on top: it may import the core and the chapters,
never the other way round."""
