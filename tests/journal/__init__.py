"""Tests of the journal: resume, suspension, crash points, racing resumes."""
