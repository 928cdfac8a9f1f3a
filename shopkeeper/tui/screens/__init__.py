"""One screen per module. ``shopkeeper.tui.registry`` lists the ones reachable by key and from the palette."""
