package org.modnet.shell.net;

import org.apache.felix.service.command.CommandSession;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * modnet's {@code ls} under Felix's own name {@code felix:ls}, ranked above Felix's: Gogo resolves an
 * unscoped {@code ls} to the first {@code SCOPE:ls} key it meets and ranks only the services of that
 * key, so a {@code modnet:ls} alone may lose to {@code felix:ls} (which lists the host's /proc and /sys).
 */
@Component(service = FelixLs.class, immediate = true, property = { "osgi.command.scope=felix", "osgi.command.function=ls",
        "service.ranking:Integer=1" })
public final class FelixLs {
    private final NetCommands commands;

    @Activate
    public FelixLs(@Reference NetCommands commands) {
        this.commands = commands;
    }

    /** See {@link NetCommands#ls}. */
    public void ls(CommandSession session, String... args) {
        commands.ls(session, args);
    }
}
