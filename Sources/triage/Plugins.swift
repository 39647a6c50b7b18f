import TriageAlerts
import TriageIncidents
import TriageMatrix
import TriagePaging
import TriageRunbook
import TriageRuntime
import TriageTelegram

/// Every plug-in this binary is built with: one line each. A new platform is one target
/// and one line here.
let plugins = PluginList(
    features: [
        RunbookPlugin(),
        IncidentsPlugin(),
        PagingPlugin(),
        AlertsPlugin(),
    ] + (CrashTestPlugin.enabled ? [CrashTestPlugin()] : []),
    platforms: [
        TelegramPlugin(),
        MatrixPlugin(),
    ])
