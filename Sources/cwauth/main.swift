import AuthCore
print(AuthCoreVersion.string)
