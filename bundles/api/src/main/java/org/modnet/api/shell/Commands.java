package org.modnet.api.shell;

/** Service properties every modnet Gogo command registers with. */
public final class Commands {
    /** The Gogo scope of every modnet command: {@code osgi.command.scope=modnet}. */
    public static final String SCOPE = "modnet";

    /**
     * The Gogo session variable naming the network namespace commands act in (as {@code ip netns exec}
     * and {@code ip -n} set it); absent means {@code init_net}.
     */
    public static final String NETNS = "modnet.netns";

    private Commands() {
    }

    /**
     * The namespace a command runs in: the one the session's {@link #NETNS} variable names (what
     * {@code ip netns exec} sets), else {@code init_net}. A name that no longer exists is the tool's
     * error, in its own words.
     *
     * @param variable the session's {@code NETNS} value, or null
     */
    public static org.modnet.api.net.NetNamespace namespace(org.modnet.api.net.NetCore core, Object variable, String tool) {
        String name = variable == null ? "" : variable.toString();
        if (name.isEmpty()) {
            return core.initNet();
        }
        org.modnet.api.net.NetNamespace ns = core.namespace(name);
        if (ns == null) {
            throw new CommandException(tool + ": network namespace \"" + name + "\" does not exist any more (see ip netns list)", 1);
        }
        return ns;
    }
}
