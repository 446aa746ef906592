"""One router per audience: auth, teacher, student, health."""
