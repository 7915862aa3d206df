"""Worker processes: ``qrscp serve --workers N`` (a supervisor and N processes accepting on one port).

:mod:`qrscp.workers.supervisor` binds the listening sockets once and keeps N workers running;
:mod:`qrscp.workers.worker` is one worker, an ordinary :class:`qrscp.app.Archive` accepting on the
inherited sockets; :mod:`qrscp.workers.handoff` is what passes between the two.
"""
