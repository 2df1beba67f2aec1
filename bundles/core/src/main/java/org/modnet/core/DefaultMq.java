package org.modnet.core;

import java.util.List;

import org.modnet.api.sched.MqQdisc;
import org.modnet.api.sched.Qdisc;

/**
 * The {@code mq} root {@code attach_default_qdiscs} gives a multi-queue device with a queue: each
 * transmit queue gets a default qdisc of its own ({@code net.core.default_qdisc}), shown as
 * {@code qdisc mq 0: root} with its children {@code parent :N}. Built into the core, as {@code sch_mq}
 * is into the kernel; {@code tc qdisc replace ... root mq} makes the sched bundle's own.
 */
final class DefaultMq extends MqQdisc {
    private final List<Qdisc> children;

    DefaultMq(List<Qdisc> children) {
        this.children = List.copyOf(children);
    }

    @Override
    public List<Qdisc> children() {
        return children;
    }
}
