"""HTTP helpers every router uses: JSON answers and the documentation of error answers."""
