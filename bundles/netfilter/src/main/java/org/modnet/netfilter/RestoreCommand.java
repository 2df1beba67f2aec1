package org.modnet.netfilter;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The {@code iptables-restore} command (a dashed name: Gogo calls {@code _main}). */
@Component(service = RestoreCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=iptables-restore" })
public final class RestoreCommand {
    private final IptablesCommand iptables;

    @Activate
    public RestoreCommand(@Reference IptablesCommand iptables) {
        this.iptables = iptables;
    }

    public void _main(CommandSession session, String... args) throws Exception {
        // Gogo passes a _main its command's name first, as argv[0]
        if (args.length > 0 && args[0].equals("iptables-restore")) {
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        iptables.restore(session, args);
    }
}
