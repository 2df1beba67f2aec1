package org.modnet.packetdrill;

import java.util.List;
import java.util.Optional;

/**
 * A parsed packetdrill script (parser.y {@code script}): its {@code --name[=value]} options as
 * written, the run configuration they give with the command line's on top, the init command (a
 * back-quoted command before the first event), the events in order, and the cleanup command (a
 * back-quoted command after the last event, run even when the script fails).
 */
public record Script(String path, List<Option> options, Config config, Optional<ShellCommand> initCommand,
        List<Event> events, Optional<ShellCommand> cleanupCommand) {

    public Script {
        options = List.copyOf(options);
        events = List.copyOf(events);
    }

    /** One {@code --name} or {@code --name=value} line of the script's header; value is null when absent. */
    public record Option(String name, String value, int line) {
    }
}
