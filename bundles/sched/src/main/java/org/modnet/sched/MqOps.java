package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.shell.CommandException;
import org.osgi.service.component.annotations.Component;

/** The {@code mq} family ({@code sch_mq.c}): a qdisc per transmit queue under one root. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=mq")
public final class MqOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        if (!args.isEmpty()) {
            throw new CommandException("What is \"" + args.get(0) + "\"?\nUsage: ... mq", 1);
        }
        return new SchMq(env.device());
    }
}
