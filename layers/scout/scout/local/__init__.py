"""The Docker-free local stack: template.yaml read into functions, routes, queues and schedules,
run on one machine (``scout dev``, ``scout invoke``).

Nothing here is imported by a deployed function; it is the developer's and the tests' runner.
"""
