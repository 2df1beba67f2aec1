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
}
