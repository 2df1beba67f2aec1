package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code netem} family ({@code sch_netem.c}): delay, loss, duplication, reordering, corruption, rate. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=netem")
public final class NetemOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchNetem(env, args);
    }
}
