"""``artvcs ui``: a local, offline web view of the repository (the ``ui`` extra: Starlette, uvicorn, jinja2).

Modules, each one concern: ``command`` (the click command; imports nothing of the server until run),
``server`` (binding a loopback port, uvicorn), ``app`` (the ASGI app: routes, errors), ``guard`` (Host
header, CSRF, security headers), ``render`` (templates and the JSON twins), ``layout`` (the lineage
graph's SVG), ``warm`` (sort keys read by a child process), ``preview`` (what a file looks like in a page), and ``pages/`` (one module per page).

Imports point one way: this package -> artvcs.porcelain (app, reports, output) -> the binding.
Every page's data comes from the functions behind the CLI's ``--json`` (artvcs.porcelain.reports);
templates and static files ship as package data, so nothing is fetched from the network.
"""
