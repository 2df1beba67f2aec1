package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code pfifo_fast} family ({@code sch_generic.c}), the kernel's default. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=pfifo_fast")
public final class PfifoFastOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchPfifoFast(env, args);
    }
}
