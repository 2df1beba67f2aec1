/**
 * Features: named sets of bundles and configuration that make a use case (minimal, host, router,
 * full, ...), installed and removed while the stack runs.
 */
@Export
@Version("1.0.0")
package org.modnet.api.feature;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
