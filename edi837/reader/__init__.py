"""The 837 reader: segments -> claims (claims.py: the segment loop and the envelope
segments; loop_table.py: the 5010 loops as data, and which handler reads which segment
in which loop; segments.py: those handlers; state.py: what the reader knows at a
segment; loops.py: each segment's part and the HL order; envelopes.py: envelope
checks; reader_findings.py: the reader's own EDI findings), where a claim starts and
ends (boundaries.py, which fix's routing walks by), the fast path over claims with no
drug line (fast.py), and the claim-shape key of the engine's cache (shapes.py)."""
