"""The trust boundary. Parent side: runner, zygote_client, procs; both sides: protocol;
child side: child, zygote_server, preload. OS walls around every child: walls."""
