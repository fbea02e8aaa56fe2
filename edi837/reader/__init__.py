"""The 837 reader: segments -> claims (claims.py, with loops.py: each segment's part and
the HL order; envelopes.py: envelope checks; reader_findings.py: the reader's own EDI
findings), the fast path over claims with no drug line (fast.py), and the claim-shape
key of the engine's cache (shapes.py)."""
