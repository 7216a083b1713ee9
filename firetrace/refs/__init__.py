"""Geometry signatures and the known-design reference library: the canonical
geometry hash (:mod:`.canonical`), the shape signature for near copies
(:mod:`.signature`), the library in the registry with its matcher
(:mod:`.library`) and signature bundles for sharing between agencies
(:mod:`.bundle`). Heavy modules are imported inside functions so that importing
this package stays cheap.
"""
