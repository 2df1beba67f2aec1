package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code fq} family ({@code sch_fq.c}): fair queueing per flow with pacing. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=fq")
public final class FqOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchFq(env, args);
    }
}
