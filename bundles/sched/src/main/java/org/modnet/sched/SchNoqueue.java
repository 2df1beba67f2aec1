package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code noqueue}: no queue at all; the core sees the kind and sends straight to the driver, so this
 * object only stands for the choice ({@code noqueue_qdisc_ops}).
 */
final class SchNoqueue extends SchedQdisc {
    SchNoqueue(QdiscEnv env, List<String> args) {
        super(env);
        if (!args.isEmpty()) {
            throw new CommandException("qdisc 'noqueue' does not support option parsing", 1);
        }
    }

    @Override
    public String kind() {
        return "noqueue";
    }

    @Override
    public int enqueue(SkBuff skb) {
        return drop(skb); // never called: the core does not queue on noqueue
    }

    @Override
    protected SkBuff dequeueNext() {
        return null;
    }

    @Override
    protected int resetQueue() {
        return 0;
    }

    @Override
    protected int queueLen() {
        return 0;
    }

    @Override
    protected int queueBytes() {
        return 0;
    }
}
