import CShim
import AuthCore

@_cdecl("mosquitto_plugin_version")
public func mosquitto_plugin_version(_ count: Int32, _ versions: UnsafePointer<Int32>?) -> Int32 {
    return 5
}
