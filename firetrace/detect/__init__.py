"""Design-file inspection: content sniffing (:mod:`.sniff`), one reader per format
(:mod:`.readers`), units inference (:mod:`.units`), geometric features
(:mod:`.features`), the rule engine and scoring (:mod:`.rules`, :mod:`.keywords`)
and the per-file record (:mod:`.engine`). Nothing here is imported by the command
line at start-up; heavy libraries load inside the functions that need them.
"""
