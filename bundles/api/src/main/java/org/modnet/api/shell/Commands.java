package org.modnet.api.shell;

/** Service properties every modnet Gogo command registers with. */
public final class Commands {
    /** The Gogo scope of every modnet command: {@code osgi.command.scope=modnet}. */
    public static final String SCOPE = "modnet";

    private Commands() {
    }
}
