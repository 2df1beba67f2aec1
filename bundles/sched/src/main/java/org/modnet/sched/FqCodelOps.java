package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code fq_codel} family ({@code sch_fq_codel.c}): fair queueing with CoDel per flow. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=fq_codel")
public final class FqCodelOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchFqCodel(env, args);
    }
}
