package org.modnet.socket;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.modnet.socket.api.Sock;

/** Lets TCP's tests run {@code ss} (package-private in the socket bundle) on their stack. */
public final class SsCommandAccess {
    private SsCommandAccess() {
    }

    public static String stateName(Sock s) {
        return SsCommand.stateName(s);
    }

    public static String run(SocketLayer layer, String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        new SsCommand(new PrintStream(b, true, StandardCharsets.UTF_8)).run(layer, layer.namespace(""), List.of(args));
        return b.toString(StandardCharsets.UTF_8);
    }

    /** {@code /proc/net/sockstat} of the initial namespace. */
    public static List<String> sockstat(SocketLayer layer) {
        return SsCommand.sockstat(layer, layer.namespace(""));
    }
}
