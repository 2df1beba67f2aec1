package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code htb} family ({@code sch_htb.c}): hierarchical rate and ceil per class, with borrowing. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=htb")
public final class HtbOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchHtb(env, args);
    }
}
