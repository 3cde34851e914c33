"""What the results say: the report (tables, figures, README), the findings, the fair comparison
of the algorithms, the sprint, and where a run's time went."""
