package org.modnet.api.sched;

import java.util.List;

/**
 * A qdisc family ({@code struct Qdisc_ops} with iproute2's {@code q_KIND.c} parser): registered as a
 * service with {@link #KIND}; {@code tc qdisc add ... KIND ARGS} finds it by that name.
 */
public interface QdiscOps {
    /** Service property: the family's name ({@code netem}, {@code tbf}). */
    String KIND = "modnet.qdisc.kind";

    /**
     * A new qdisc from tc's words after the kind. Bad words throw
     * {@link org.modnet.api.shell.CommandException} with tc's message and status.
     */
    Qdisc create(QdiscEnv env, List<String> args);
}
