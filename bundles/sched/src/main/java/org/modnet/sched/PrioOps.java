package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code prio} family ({@code sch_prio.c}): strict-priority bands. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=prio")
public final class PrioOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchPrio(env, args);
    }
}
