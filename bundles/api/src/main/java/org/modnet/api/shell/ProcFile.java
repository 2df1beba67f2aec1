package org.modnet.api.shell;

import java.util.List;

import org.modnet.api.net.NetNamespace;

/**
 * A file that a layer keeps (as {@code /proc/net/sockstat} or {@code /sys/kernel/tracing/trace}),
 * registered as a service with {@value #PATH} (one path or several); {@code cat} reads it in the
 * session's namespace.
 */
@FunctionalInterface
public interface ProcFile {
    String PATH = "modnet.proc.path";

    /** The file's lines as they read now in {@code ns}. */
    List<String> read(NetNamespace ns);
}
