import TriageAlerts
import TriageIncidents
import TriageMatrix
import TriagePaging
import TriageRunbook
import TriageRuntime
import TriageTelegram

/// The plug-ins of the `triage` binary, for tests that assemble Triage as it ships.
public enum StandardPlugins {
    public static let all = PluginList(
        features: [RunbookPlugin(), IncidentsPlugin(), PagingPlugin(), AlertsPlugin()],
        platforms: [TelegramPlugin(), MatrixPlugin()])
}
