"""The Open311 GeoReport v2 API: routes, input, JSON and XML rendering."""
