package org.modnet.api.module;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A module's users other than the bundles wired to its packages: the sockets open on a protocol, the
 * devices a driver made. A module registers it (one or more); the bundle that registers it is the
 * module it speaks for. {@code rmmod} refuses a module whose users are not all zero, {@code rmmod -f}
 * removes it anyway and counts these as dropped, and {@code lsmod} adds them to "Used by".
 */
@ConsumerType
public interface ModuleUsage {
    /** Kind of user for sockets ({@code /proc/net/sockstat}'s "inuse"). */
    String SOCKETS = "sockets";
    /** Kind of user for network devices a driver registered. */
    String DEVICES = "devices";

    /**
     * What others hold of this module now, by kind ({@link #SOCKETS}: 3); a kind with none may be
     * left out. Called from the shell, never on the packet path; it must not block.
     */
    Map<String, Integer> users();
}
