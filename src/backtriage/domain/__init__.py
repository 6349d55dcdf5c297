"""The domain model: what goes into an assessment and what comes out."""
