"""Reports: charts and documents built from the analytics figures."""
