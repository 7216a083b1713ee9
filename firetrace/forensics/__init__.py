"""Forensic scanning of seized media: evidence sources (folders, archives nested to
a limit, raw and E01 disk images through The Sleuth Kit), read-only evidence
handling, decompression-bomb and hostile-name guards, hashing of every candidate
design file, hash sets, the run manifest, parallel workers, resume, and the
JSONL, CSV and CASE/UCO writers. Per-file analysis is injected (see
:mod:`firetrace.forensics.analysis`), so nothing here knows a design format.
"""
