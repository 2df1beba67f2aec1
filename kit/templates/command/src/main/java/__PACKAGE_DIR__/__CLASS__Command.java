package __PACKAGE__;

import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Component;

/**
 * The shell command {@code __NAME__} in scope {@code modnet}: prints Linux-style output; errors are a
 * {@link CommandException} with the words and the exit status a Linux tool would give.
 */
@Component(service = __CLASS__Command.class, immediate = true,
        property = { "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=__NAME__" })
public final class __CLASS__Command {
    public void __NAME__(CommandSession session, String... args) throws CommandException {
        session.getConsole().println(run(List.of(args)));
    }

    /** The command's work, without a session, for tests. */
    static String run(List<String> args) throws CommandException {
        if (!args.isEmpty() && args.get(0).startsWith("-")) {
            throw new CommandException("__NAME__: invalid option -- '" + args.get(0).substring(1) + "'", 1);
        }
        return "__NAME__: " + String.join(" ", args);
    }
}
