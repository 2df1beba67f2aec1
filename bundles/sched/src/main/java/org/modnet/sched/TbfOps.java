package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code tbf} family ({@code sch_tbf.c}): the token bucket shaper. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=tbf")
public final class TbfOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchTbf(env, args);
    }
}
